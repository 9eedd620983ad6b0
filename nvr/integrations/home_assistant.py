"""Home Assistant's MQTT discovery: a retained config per sensor makes each camera a device with motion,
tamper and online binary sensors, unavailable whenever the station is (`<prefix>/available`)."""

from __future__ import annotations

import json

DISCOVERY_PREFIX = "homeassistant"
# kind (in the unique id), shown name, the camera's state topic under <prefix>/<camera>/, device class, on, off
SENSORS = (
    ("motion", "Motion", "motion", "motion", "ON", "OFF"),
    ("tamper", "Tamper", "tamper", "tamper", "ON", "OFF"),
    ("online", "Online", "status", "connectivity", "online", "offline"),
)


def discovery_topic(station: str, camera: str, kind: str) -> str:
    return f"{DISCOVERY_PREFIX}/binary_sensor/{station}/{camera}_{kind}/config"


def discovery_configs(prefix: str, station: str, camera: str, title: str) -> dict[str, str]:
    """Config topic -> its JSON, for each of the camera's sensors. Unique ids carry the station id, so the
    cameras of several posts on one broker never merge."""
    device = {"identifiers": [f"station-nvr_{station}_{camera}"], "name": title, "manufacturer": "Station NVR",
              "model": "camera"}
    configs = {}
    for kind, name, state, device_class, on, off in SENSORS:
        config = {"name": name, "unique_id": f"{station}_{camera}_{kind}", "state_topic": f"{prefix}/{camera}/{state}",
                  "payload_on": on, "payload_off": off, "device_class": device_class,
                  "availability_topic": f"{prefix}/available", "device": device}
        if kind == "online":
            config["entity_category"] = "diagnostic"
        configs[discovery_topic(station, camera, kind)] = json.dumps(config, ensure_ascii=False)
    return configs
