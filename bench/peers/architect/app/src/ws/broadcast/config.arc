@aws
timeout 60
