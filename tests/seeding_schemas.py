"""Schemas the data check's tests seed, in one place: the seeding tests (``test_seed_data.py``)
and the round trip's blame tests (``plugin/test_roundtrip.py``) exercise the same tables."""

from __future__ import annotations

__all__ = ["BLOG_WITH_TRIGGERS", "BLOG_DOWN"]

# Inserting a comment updates its post (a counter, a search column, a timestamp) and a row of
# another table: seeding comments changes rows already seeded in posts and activity.
BLOG_WITH_TRIGGERS = """
CREATE TABLE posts (id int PRIMARY KEY, title text NOT NULL, comment_count int NOT NULL DEFAULT 0,
                    search tsvector, touched_at timestamptz);
CREATE TABLE comments (id int PRIMARY KEY, post_id int NOT NULL REFERENCES posts, body text NOT NULL);
CREATE TABLE activity (id int PRIMARY KEY, last_comment_at timestamptz);
INSERT INTO activity VALUES (1, NULL);
CREATE FUNCTION comment_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET comment_count = comment_count + 1,
                     search = to_tsvector('simple', title || ' ' || NEW.body),
                     touched_at = now()
    WHERE id = NEW.post_id;
    UPDATE activity SET last_comment_at = now();
    RETURN NEW;
END $$;
CREATE TRIGGER comments_added AFTER INSERT ON comments FOR EACH ROW EXECUTE FUNCTION comment_added();
"""

BLOG_DOWN = "DROP TABLE activity, comments, posts;\nDROP FUNCTION comment_added();\n"
