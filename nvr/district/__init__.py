"""The district server (`nvr district`): one view of many posts' cameras, from the shared catalog
(PostgreSQL) and the posts' MQTT status; footage stays on the posts' boxes (design/district.md)."""
