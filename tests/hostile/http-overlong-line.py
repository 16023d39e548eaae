import sys
# a report of one 9 MiB line (under web.max-body) whose organization-name is 9 MiB
sys.stdout.write('{"organization-name":"Hostile","date-range":{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"a@example.com","report-id":"hostile-1","policies":['.replace('"Hostile"', '"' + "x" * (9 << 20) + '"') + "]}")
