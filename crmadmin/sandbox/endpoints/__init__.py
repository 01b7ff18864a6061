"""The API endpoints; each takes a ``Call`` that has passed auth, URL, method, module and scope."""
