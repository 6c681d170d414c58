-- One database per service (SPEC §2: a service never reads another's data).
-- The postgres image runs this once, as POSTGRES_USER, when it initialises an
-- empty data volume; on later starts it is skipped. To add a database to an
-- existing volume, run the matching statement by hand with psql.
CREATE DATABASE yizhan_booking;
CREATE DATABASE yizhan_desk;
-- Before notify: the compose healthcheck waits for yizhan_notify, the last one made.
CREATE DATABASE yizhan_portal;
CREATE DATABASE yizhan_notify;
