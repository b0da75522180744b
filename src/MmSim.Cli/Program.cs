return MmSim.Cli.CliApp.Run(args);
