"""The one error for a hash set that does not exist (or that the caller may not know of):
raised by the set services and the matcher alike, answered 404 by the API and exit 2 by the
command line."""


class UnknownSet(LookupError):
    pass
