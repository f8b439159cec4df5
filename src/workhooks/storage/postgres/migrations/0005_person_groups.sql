-- Org-groups (a tree per tenant through parent_id) and circles, and the people in each.
CREATE TABLE person_groups (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    parent_id BIGINT,
    PRIMARY KEY (tenant, kind, id)
);
CREATE INDEX person_groups_parent ON person_groups (tenant, kind, parent_id)
    WHERE parent_id IS NOT NULL;
CREATE TABLE person_group_members (
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    group_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    PRIMARY KEY (tenant, kind, group_id, person_id)
);
