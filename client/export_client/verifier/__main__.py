from export_client.verifier.commands import main

main()
