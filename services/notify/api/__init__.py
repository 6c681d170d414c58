"""HTTP adapters: one flask-smorest Blueprint per resource."""
