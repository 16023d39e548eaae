import sys
# an 8 MiB organization-name on one line
sys.stdout.write('{"organization-name":"Hostile","date-range":{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"a@example.com","report-id":"hostile-1","policies":['.replace('"Hostile"', '"' + "x" * (8 << 20) + '"') + '{"policy":{"policy-type":"sts","policy-domain":"example.org"},"summary":{"total-successful-session-count":1,"total-failure-session-count":0}}]}')
