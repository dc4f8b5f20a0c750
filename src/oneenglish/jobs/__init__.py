"""Work that runs apart from requests: the maintenance loop's retention pass, reconcile. Both
run in every API process (retention) or from the command line (`oneenglish purge-logs`,
`oneenglish reconcile`)."""
