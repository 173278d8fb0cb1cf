"""WebSocket routes. Consumers check login and membership themselves on connect."""

websocket_urlpatterns: list = []
