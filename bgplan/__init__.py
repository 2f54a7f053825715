"""bgplan: planning industrial parks, corridors and logistics in Bắc Giang (Vietnam)."""
