"""Research exports: de-identified posts (`posts`, `deidentify`) and chunked writers (`writers`)."""
