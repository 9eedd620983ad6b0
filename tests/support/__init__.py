"""Real test infrastructure: RTSP cameras and a throwaway PostgreSQL server."""
