"""Work with foreign governments: traveller screening, notices, inbound requests, redress."""
