-- Sales table, roles and row-/column-level security for the four personas
-- (shared/DESIGN.md §1B). Redshift SQL: runs unchanged on Amazon Redshift and, through the
-- Data API, on the local stack. Identity Center groups appear in Redshift as roles named
-- "AWSIDC:<group>"; its users as "AWSIDC:<email>".
--
--   persona  group        rows          columns
--   ethan    exec-global  every region  all
--   frank    amer-sales   AMER          all but unit_price
--   alex     emea-sales   EMEA          all but unit_price
--   ming     apac-sales   APAC          all but unit_price

CREATE TABLE IF NOT EXISTS sales (
    region     VARCHAR(8)     NOT NULL,
    country    VARCHAR(64)    NOT NULL,
    product    VARCHAR(64)    NOT NULL,
    quantity   INTEGER        NOT NULL,
    unit_price DECIMAL(12, 2) NOT NULL,
    amount     DECIMAL(14, 2) NOT NULL,
    sold_at    TIMESTAMP      NOT NULL
);

CREATE ROLE "AWSIDC:exec-global";
CREATE ROLE "AWSIDC:amer-sales";
CREATE ROLE "AWSIDC:emea-sales";
CREATE ROLE "AWSIDC:apac-sales";

-- Column-level security: executives see every column, regional managers all but unit_price.
GRANT SELECT ON sales TO ROLE "AWSIDC:exec-global";
GRANT SELECT (region, country, product, quantity, amount, sold_at) ON sales TO ROLE "AWSIDC:amer-sales";
GRANT SELECT (region, country, product, quantity, amount, sold_at) ON sales TO ROLE "AWSIDC:emea-sales";
GRANT SELECT (region, country, product, quantity, amount, sold_at) ON sales TO ROLE "AWSIDC:apac-sales";

-- Row-level security: one policy per region, one that shows everything.
CREATE RLS POLICY sales_all_regions USING (true);
CREATE RLS POLICY sales_amer WITH (region VARCHAR(8)) USING (region = 'AMER');
CREATE RLS POLICY sales_emea WITH (region VARCHAR(8)) USING (region = 'EMEA');
CREATE RLS POLICY sales_apac WITH (region VARCHAR(8)) USING (region = 'APAC');

ATTACH RLS POLICY sales_all_regions ON sales TO ROLE "AWSIDC:exec-global";
ATTACH RLS POLICY sales_amer ON sales TO ROLE "AWSIDC:amer-sales";
ATTACH RLS POLICY sales_emea ON sales TO ROLE "AWSIDC:emea-sales";
ATTACH RLS POLICY sales_apac ON sales TO ROLE "AWSIDC:apac-sales";

-- From here on a user with no attached policy sees no rows at all.
ALTER TABLE sales ROW LEVEL SECURITY ON;
