"""Evidence: the station's signing key, signed case exports, and their verification."""
