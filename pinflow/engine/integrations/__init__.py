"""Task integrations: one module per integration, listed in `table` (see `base` for what each says)."""
