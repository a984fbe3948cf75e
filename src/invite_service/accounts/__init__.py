"""A user's messenger accounts as the API shows them: each window's use and the holds their lanes record."""
