-- +migrate Up
CREATE TABLE article_tags (
    article_id bigint NOT NULL,
    tag_id integer NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (article_id, tag_id)
);

-- +migrate Down
DROP TABLE article_tags;
