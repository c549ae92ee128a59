"""Folium map builders: the dispatcher live map, the public outage map, the crew map."""
