-- The columns the inbox lists and orders reviews by, so a queue page of a
-- large book reads headline rows, never the packets' JSON. Packets saved
-- before this migration are filled in from their JSON when the store opens.
ALTER TABLE packets ADD COLUMN account_name TEXT;
ALTER TABLE packets ADD COLUMN score INTEGER;
ALTER TABLE packets ADD COLUMN arr {{.Float}};
ALTER TABLE packets ADD COLUMN urgency {{.Float}};
ALTER TABLE packets ADD COLUMN renewal_date TEXT;
ALTER TABLE packets ADD COLUMN due_at {{.Time}};

CREATE INDEX packets_queue ON packets (state, urgency);
