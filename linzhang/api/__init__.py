"""HTTP platform code shared by every domain's API: problem details, request context, health."""
