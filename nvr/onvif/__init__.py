"""ONVIF cameras on the local network: found by WS-Discovery, read through their device and media services."""
