"""The pages people work in: server-rendered Chinese pages (Jinja + HTMX) over the domains' services.

A page controller is another controller over the same use cases as the API: it parses, calls the
service functions the API calls (which authorize), and renders. No rule lives here. See
docs/adr/0010-server-rendered-pages.md.
"""
