"""Public signboards (林长公示牌): every jurisdiction\x27s public page, its QR code, and the public\x27s reports."""
