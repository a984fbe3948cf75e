-- The Invite Service's role and database (the plan's names: invite_user, invite_db), and a second database
-- for the reference Integration Service (the compose `telegram` profile), for operators who share one
-- PostgreSQL. Run once as a superuser; running it again changes nothing:
--   psql -h HOST -U postgres -v invite_password='…' -v integration_password='…' -f deploy/postgres/init.sql
-- deploy/docker-compose.yml mounts it into /docker-entrypoint-initdb.d/ (run on the first start of an empty
-- volume; there psql gets no -v, so the passwords are the defaults below: that database is not published).
-- Names can be overridden too (-v invite_user=… -v invite_db=…), which the tests do.
\set ON_ERROR_STOP on

\if :{?invite_user} \else \set invite_user invite_user \endif
\if :{?invite_db} \else \set invite_db invite_db \endif
\if :{?invite_password} \else \set invite_password invite \endif
\if :{?integration_user} \else \set integration_user integration_user \endif
\if :{?integration_db} \else \set integration_db integration_db \endif
\if :{?integration_password} \else \set integration_password integration \endif

-- CREATE ROLE / DATABASE have no IF NOT EXISTS: build each statement only when the object is missing.
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'invite_user', :'invite_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'invite_user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'invite_db', :'invite_user', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'invite_db') \gexec

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'integration_user', :'integration_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'integration_user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'integration_db', :'integration_user', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'integration_db') \gexec

-- Only the owners connect; each role sees its own database only (PUBLIC may connect by default).
SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', :'invite_db') \gexec
SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', :'integration_db') \gexec
