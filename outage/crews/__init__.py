"""Field crews and the dispatch plan, kept in the database; the algorithms live in `dispatch`."""
