"""The operator console at ``/console``: web pages for the ward's community digital technology
team, radio operators, content editors and admins.

It sits on the floor between ``broadcast`` and ``bot``: it uses the same services as the CLI and
the chat flows (``broadcast.announcements``, ``broadcast.teams``...) and never a second way of
doing the same thing; ``bot`` mounts it (``console.web.make_console``).

Modules:

* ``accounts``: accounts from ``trolyso console user add``, setup links, argon2id passwords,
  the code that links an account to a chat account;
* ``sessions``: server-side sessions, CSRF tokens, login throttling, logout everywhere;
* ``routing``: the route table: every route with the role it needs and the areas it touches,
  checked in one middleware; and the navigation registry;
* ``pages/``: one module per group of pages, each contributing routes and menu entries;
* ``charts``: SVG charts drawn on the server.
"""
