"""Authentication: users with scrypt passwords, sessions, signed access tokens, audit log."""
