"""territoires' web service: FastAPI app serving Folium maps, the JSON API, exports and OGC API Features."""
