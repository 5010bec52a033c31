"""The store's migrations 1-14, in order (`store.schema.MIGRATIONS` begins with them): history,
never changed (a store records how many it applied); new ones go at the end of
`store.schema.MIGRATIONS`."""

from __future__ import annotations

EARLY: tuple[str, ...] = (
    # 1: initial schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE lists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        url TEXT NOT NULL DEFAULT '',
        paths TEXT NOT NULL DEFAULT '[]',
        community TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        last_sync TEXT
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        message_id TEXT NOT NULL,
        message_id_norm TEXT NOT NULL,
        msgid_synthetic INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        in_reply_to TEXT NOT NULL,
        refs TEXT NOT NULL,
        from_name TEXT NOT NULL,
        from_addr TEXT NOT NULL,
        to_json TEXT NOT NULL,
        cc_json TEXT NOT NULL,
        subject TEXT NOT NULL,
        subject_norm TEXT NOT NULL,
        list_tag TEXT NOT NULL,
        date INTEGER,
        date_offset INTEGER,
        date_source TEXT NOT NULL,
        body TEXT NOT NULL,
        body_own TEXT NOT NULL,
        body_quoted TEXT NOT NULL,
        signature TEXT NOT NULL,
        is_html_only INTEGER NOT NULL,
        attachments TEXT NOT NULL,
        flags TEXT NOT NULL,
        raw BLOB NOT NULL,
        raw_size INTEGER NOT NULL,
        raw_sha256 TEXT NOT NULL,
        thread_id TEXT,
        parent_key TEXT,
        depth INTEGER,
        thread_pos INTEGER,
        seq INTEGER NOT NULL
    );
    CREATE INDEX messages_msgid ON messages (message_id_norm);
    CREATE INDEX messages_thread ON messages (thread_id, thread_pos);
    CREATE INDEX messages_unthreaded ON messages (id) WHERE thread_id IS NULL;
    CREATE INDEX messages_seq ON messages (seq, key);
    CREATE INDEX messages_subject ON messages (subject_norm, date);
    CREATE INDEX messages_date ON messages (date);
    CREATE TABLE memberships (
        message INTEGER NOT NULL REFERENCES messages (id),
        list INTEGER NOT NULL REFERENCES lists (id),
        origin TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (message, list)
    ) WITHOUT ROWID;
    CREATE INDEX memberships_list ON memberships (list, message);
    CREATE TABLE msgnodes (
        message_id_norm TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX msgnodes_thread ON msgnodes (thread_id);
    CREATE TABLE threads (
        thread_id TEXT PRIMARY KEY,
        root_message_id TEXT NOT NULL,
        root_key TEXT,
        subject TEXT NOT NULL,
        first_date INTEGER,
        last_date INTEGER,
        message_count INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE volumes (
        list INTEGER NOT NULL REFERENCES lists (id),
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '',
        sha256 TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0,
        fetched_at TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (list, name)
    );
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        list INTEGER NOT NULL REFERENCES lists (id),
        origin TEXT NOT NULL,
        position INTEGER NOT NULL,
        reason TEXT NOT NULL,
        raw BLOB NOT NULL,
        raw_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (list, raw_sha256)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        list INTEGER NOT NULL REFERENCES lists (id),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 2: list addresses and private archives, communities, locks
    """
    ALTER TABLE lists ADD COLUMN address TEXT NOT NULL DEFAULT '';
    ALTER TABLE lists ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE communities (
        name TEXT PRIMARY KEY,
        cutover TEXT,
        closed TEXT,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 3: pipermail article numbers (NNNNNN.html) of each period, for redirecting old links
    """
    CREATE TABLE pipermail_articles (
        list INTEGER NOT NULL REFERENCES lists (id),
        period TEXT NOT NULL,
        number INTEGER NOT NULL,
        message_key TEXT NOT NULL,
        PRIMARY KEY (list, period, number)
    ) WITHOUT ROWID;
    """,
    # 4: persons and identities, person decisions, tags, rosters, meetings, accounts
    """
    CREATE TABLE persons (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        merged_into INTEGER REFERENCES persons (id),
        created_at TEXT NOT NULL,
        name_stale INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX persons_name_stale ON persons (id) WHERE name_stale;
    CREATE TABLE identities (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        person INTEGER NOT NULL REFERENCES persons (id),
        UNIQUE (kind, value)
    );
    CREATE INDEX identities_person ON identities (person);
    ALTER TABLE messages ADD COLUMN identity INTEGER REFERENCES identities (id);
    -- 0: the message replied to is missing, parent_key is the nearest held ancestor;
    -- NULL: threaded before this was recorded (taken as direct)
    ALTER TABLE messages ADD COLUMN parent_direct INTEGER;
    CREATE INDEX messages_identity ON messages (identity, date);
    CREATE INDEX messages_no_identity ON messages (id) WHERE identity IS NULL;
    CREATE INDEX messages_parent ON messages (parent_key);
    -- covers the analytics frame: reading it never touches the wide message rows
    CREATE INDEX messages_frame
        ON messages (id, date, identity, thread_id, parent_key, key, parent_direct);
    CREATE TABLE person_events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        undone_by INTEGER REFERENCES person_events (id)
    );
    CREATE TABLE person_distinct (
        a INTEGER NOT NULL REFERENCES persons (id),
        b INTEGER NOT NULL REFERENCES persons (id),
        PRIMARY KEY (a, b)
    ) WITHOUT ROWID;
    CREATE TABLE person_tags (
        person INTEGER NOT NULL REFERENCES persons (id),
        tag TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        PRIMARY KEY (person, tag)
    ) WITHOUT ROWID;
    CREATE INDEX person_tags_tag ON person_tags (tag);
    CREATE TABLE rosters (
        id INTEGER PRIMARY KEY,
        list INTEGER NOT NULL REFERENCES lists (id),
        format TEXT NOT NULL,
        source TEXT NOT NULL,
        as_of TEXT NOT NULL,
        imported_at TEXT NOT NULL
    );
    CREATE TABLE roster_members (
        roster INTEGER NOT NULL REFERENCES rosters (id),
        address TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (roster, address)
    ) WITHOUT ROWID;
    CREATE TABLE meetings (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        date TEXT NOT NULL DEFAULT '',
        community TEXT NOT NULL DEFAULT '',
        tag TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        imported_at TEXT NOT NULL
    );
    CREATE TABLE meeting_participants (
        meeting INTEGER NOT NULL REFERENCES meetings (id),
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        person INTEGER REFERENCES persons (id),
        match TEXT NOT NULL,
        PRIMARY KEY (meeting, position)
    ) WITHOUT ROWID;
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    ALTER TABLE communities ADD COLUMN old_list TEXT;
    ALTER TABLE communities ADD COLUMN new_list TEXT;
    """,
    # 5: server-side web sessions (revocable) and login attempts (throttling), issue 11
    """
    -- one row per web login: the cookie carries a random id, the store its SHA-256 only
    CREATE TABLE web_sessions (
        id_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        client TEXT NOT NULL DEFAULT ''
    ) WITHOUT ROWID;
    CREATE INDEX web_sessions_user ON web_sessions (username);
    CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
    -- failed logins counted per account ('account', folded username) and per client
    -- address ('address': an IPv4 address or an IPv6 /64), shared by every web worker
    CREATE TABLE login_attempts (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        failures INTEGER NOT NULL,
        last_at REAL NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID;
    CREATE INDEX login_attempts_last ON login_attempts (last_at);
    """,
    # a list may belong to several communities (a forum and its umbrella), issue 12;
    # lists.community stays: the list's first community (store.communities keeps it so)
    """
    CREATE TABLE list_communities (
        list INTEGER NOT NULL REFERENCES lists (id),
        community TEXT NOT NULL,
        PRIMARY KEY (list, community)
    ) WITHOUT ROWID;
    CREATE INDEX list_communities_community ON list_communities (community, list);
    INSERT INTO list_communities (list, community)
        SELECT id, community FROM lists WHERE community != '';
    -- a list's runs, newest first (runs history and failing lists, per list)
    CREATE INDEX IF NOT EXISTS runs_list ON runs (list, id);
    """,
    # removals (issue 12): a removal hides messages from every reader and keeps them out of
    # later syncs; its marks are the tombstones (what matches a message again, never its text)
    """
    CREATE TABLE removals (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        actor TEXT NOT NULL,
        created_at TEXT NOT NULL,
        purged INTEGER NOT NULL DEFAULT 0,
        undone_at TEXT,
        undone_by TEXT
    );
    CREATE TABLE removal_marks (
        removal INTEGER NOT NULL REFERENCES removals (id),
        message_key TEXT NOT NULL,
        message_id_norm TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        raw_sha256 TEXT NOT NULL,
        PRIMARY KEY (removal, message_key)
    ) WITHOUT ROWID;
    CREATE INDEX removal_marks_key ON removal_marks (message_key);
    CREATE INDEX removal_marks_content ON removal_marks (content_hash);
    CREATE INDEX removal_marks_raw ON removal_marks (raw_sha256);
    """,
    # messages the search index could not take (their document failed to build or was
    # refused), with the reason; a later successful indexing removes the row (issue 12)
    """
    CREATE TABLE unindexable (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        seq INTEGER NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    );
    """,
    # a failed volume remembers the limits in force when it failed (issue 11): raising one
    # (sync.max_volume_bytes) retries it although its bytes are unchanged
    """
    ALTER TABLE volumes ADD COLUMN limits TEXT NOT NULL DEFAULT '';
    """,
    # the mbox From_ line each message came with (issue 13): exports write it back instead of
    # rebuilding one; '' for messages stored before (the raw bytes never held it)
    """
    ALTER TABLE messages ADD COLUMN unixfrom TEXT NOT NULL DEFAULT '';
    """,
    # a local mbox file remembers how far it was stored and a fingerprint of those bytes
    # (issue 14): a file that only grew is read from there on (`ingest.sources.mbox`)
    """
    ALTER TABLE volumes ADD COLUMN resume_offset INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE volumes ADD COLUMN resume_fp TEXT NOT NULL DEFAULT '';
    """,
    # a message quarantined by a limit (larger than sync.max_message_bytes) remembers the
    # limits in force (JSON): a sync after one was raised reads its volume again
    # (`ingest.sync`); such rows from before say '{}' (not known: read again once), others ''
    """
    ALTER TABLE quarantine ADD COLUMN limits TEXT NOT NULL DEFAULT '';
    UPDATE quarantine SET limits = '{}'
        WHERE reason LIKE '%is larger than sync.max_message_bytes%';
    CREATE INDEX quarantine_held ON quarantine (list, origin) WHERE limits != '';
    """,
    # statistics figures computed once per state of the archive, shared by every web worker
    # and kept across restarts (issue 14, `store.figure_cache`); rows of an older state are
    # dropped by the next put
    """
    CREATE TABLE figure_cache (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        value TEXT NOT NULL
    );
    """,
    # a message's own and quoted text are derived from its body when read (issue 14, store
    # size: `store.body_parts`), not stored as two more copies of it; the pages they held are
    # free in the file until a VACUUM (docs/architecture.md, "Store size")
    """
    ALTER TABLE messages DROP COLUMN body_own;
    ALTER TABLE messages DROP COLUMN body_quoted;
    """,
)
