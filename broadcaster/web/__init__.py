"""The web layer: routers by caller (public surfaces, phone)."""
