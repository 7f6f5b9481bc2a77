"""territoires' geospatial core: sources → territories → schemes → coverage. No web code here."""
