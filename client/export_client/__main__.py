from export_client.cli import main

main()
