"""The station's processes: recorder workers that read and record the cameras, the station process that
serves the API and runs detection, and the supervisor that starts them and restarts a dead one."""
