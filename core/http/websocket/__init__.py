"""The WebSocket API at `/api/websocket`, in Home Assistant's message shapes."""
