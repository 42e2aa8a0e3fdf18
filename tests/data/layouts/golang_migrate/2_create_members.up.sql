CREATE TABLE members (
    team_id  bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email    text   NOT NULL,
    PRIMARY KEY (team_id, email)
);
