import sys
# 100,000 policies (about 14 MB of JSON)
p = '{"policy":{"policy-type":"sts","policy-domain":"example.org"},"summary":{"total-successful-session-count":1,"total-failure-session-count":0}}'
sys.stdout.write('{"organization-name":"Hostile","date-range":{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"a@example.com","report-id":"hostile-1","policies":[' + ",".join([p] * 100000) + "]}")
