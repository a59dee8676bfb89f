# Benchmark peer: the same routes as bench/apps/* on @architect/sandbox 8.0.0.
# No `echo` route: Architect has no route responses (two-way routes), so scenario 1 is n/a.
@app
swbench

@ws
send
sdk
broadcast
