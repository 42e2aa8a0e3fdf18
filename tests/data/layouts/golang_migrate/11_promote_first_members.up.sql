-- Data only and irreversible: no down file.
UPDATE members m
SET role = 'owner'
WHERE m.email = (
    SELECT min(other.email) FROM members other WHERE other.team_id = m.team_id
);
