"""The live-view media engine: WebRTC peer connections and tracks (`sessions`), the RTP send loop for
frames already split into payloads (`sender`), the direct encrypted route to the viewer's socket
(`direct_route`) and UDP segmentation offload (`udp_segments`). Signalling is a route (api/routes_live.py)."""
