"""The protected /admin page: member-list uploads, their preview, publication, versions and rollback."""
