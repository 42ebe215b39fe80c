"""Registry cross-matching: registrants against other agencies' person indices, on Splink."""
