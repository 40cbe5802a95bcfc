"""One screen per module: home, review, session end, weakness, stats, help."""
