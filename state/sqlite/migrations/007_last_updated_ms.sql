-- The CRM's lastUpdated kept to the millisecond (issue 21): a CRM that
-- answers milliseconds was recorded to the second, so every customer it
-- had touched looked edited since erpsync's push. crm_last_updated is now
-- unix milliseconds, in records and unmanaged alike (0 stays "none").
UPDATE records SET crm_last_updated = crm_last_updated * 1000 WHERE crm_last_updated <> 0;
UPDATE unmanaged SET crm_last_updated = crm_last_updated * 1000 WHERE crm_last_updated <> 0;
