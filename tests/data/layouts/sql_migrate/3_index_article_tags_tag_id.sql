-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY article_tags_tag_id_idx ON article_tags (tag_id);

-- +migrate Down notransaction
DROP INDEX CONCURRENTLY article_tags_tag_id_idx;
