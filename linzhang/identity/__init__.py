"""Identity: users, password hashes, bearer tokens and the scope rule every domain's API applies.

Platform code beside the bus, not a domain: it knows jurisdictions only as paths.
"""

from linzhang.identity.scope import Action, Principal, Role, authorize, can_read

__all__ = ["Action", "Principal", "Role", "authorize", "can_read"]
