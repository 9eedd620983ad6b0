"""What the station tells other systems: MQTT (status, motion, tamper, events, Home Assistant discovery) and
signed webhooks; each runs in threads of its own behind a bounded queue (design/integrations.md)."""
