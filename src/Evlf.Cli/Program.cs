using Evlf.Cli;

return EvlfApp.Run(args);
